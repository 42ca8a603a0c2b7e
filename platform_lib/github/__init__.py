"""GitHub's REST API as the platform uses it.

naming        names shared with the deploy workflow (run titles, job names)   pure
payload       the repository_dispatch payload and GitHub's limits             pure
runs          which run a dispatch started; how a deploy job ended            pure
approvals     gates waiting for approval and which one to act on              pure
environments  the GitHub environments the settings call for; doctor's checks  pure
render        gates as text                                                   pure
models        GitHub's answers, reduced to the fields read
transport     HTTP: headers, bounded rate-limit retries, one-line errors
client        `GitHubClient`: one method per endpoint
follow        multi-call conversations: follow a run, list waiting runs, set up
settings      configs/platform.yml and which repository to talk to
token         where the token comes from (never printed)
errors        the GitHubError tree
"""
