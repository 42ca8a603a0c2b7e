#!/usr/bin/env bash
# Send the deploy request (repository_dispatch `deploy`) to the platform repository with
# `python -m platform_lib github notify`, and output the platform run's URL as `run-url`.
#
# Environment: PLATFORM_PYTHON (the platform venv's python), GH_TOKEN, and the checked inputs
# PROJECT, IMAGES (one SERVICE=REF per line), PLATFORM_REPO, APP_SHA, WAIT. `notify` asks the
# runner for an OIDC token (ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN) for the platform repository
# and sends it in the payload; the repository and actor are the run's own. The GitHub API is
# $GITHUB_API_URL, as the runner sets it.
set -euo pipefail

args=(github notify --repo "$PLATFORM_REPO" --project "$PROJECT" --commit "$APP_SHA")
while IFS= read -r image; do
  [[ -n $image ]] && args+=(--image "$image")
done <<<"$IMAGES"
if [[ -n ${WAIT:-} ]]; then
  args+=(--wait "$WAIT")
else
  args+=(--run-url --timeout 120)  # only long enough to find the run it started
fi

out=$(mktemp)
trap 'rm -f -- "$out"' EXIT
status=0
"$PLATFORM_PYTHON" -m platform_lib "${args[@]}" >"$out" || status=$?
cat "$out"
run_url=$(grep -Eo 'https?://[^[:space:]]+' "$out" | tail -n 1 || true)
echo "run-url=$run_url" >>"${GITHUB_OUTPUT:-/dev/stdout}"

if [[ -n ${GITHUB_STEP_SUMMARY:-} ]]; then
  {
    echo "## Deploy request to $PLATFORM_REPO: $([[ $status == 0 ]] && echo sent || echo '**failed**')"
    echo
    echo "| | |"
    echo "|---|---|"
    echo "| project | \`$PROJECT\` |"
    while IFS= read -r image; do
      [[ -n $image ]] && echo "| ${image%%=*} | \`${image#*=}\` |"
    done <<<"$IMAGES"
    echo "| from | \`${GITHUB_REPOSITORY:-?}@$APP_SHA\` by \`${GITHUB_ACTOR:-?}\` |"
    echo "| platform run | ${run_url:-not found} |"
    [[ -n ${WAIT:-} ]] && echo "| waited for | $WAIT: $([[ $status == 0 ]] && echo succeeded || echo '**failed**') |"
  } >>"$GITHUB_STEP_SUMMARY"
fi
if ((status != 0)); then
  echo "::error title=deploy request::python -m platform_lib github notify exited $status (see above)"
  exit "$status"
fi
