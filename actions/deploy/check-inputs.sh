#!/usr/bin/env bash
# Check the inputs of actions/deploy before anything is installed or sent, report every problem
# at once (one ::error:: each), and output them normalized: project, images (one
# SERVICE=REF@sha256:DIGEST per line), platform-repo, app-sha, wait.
#
# Inputs (environment): PROJECT, IMAGES, PLATFORM_REPO, TOKEN, WAIT, APP_SHA; APP_SHA defaults
# to the workflow's GITHUB_SHA, the platform repository to
# GITHUB_REPOSITORY_OWNER/multi-tenant-platform. The app repository and the actor are the
# run's own (GITHUB_REPOSITORY, GITHUB_ACTOR), as its OIDC token names them. The job must be
# able to mint that token (`permissions: id-token: write`).
set -euo pipefail
set -f # image items are split on whitespace: never glob them

problems=()
problem() { problems+=("$1"); }

project=${PROJECT:-}
platform_repo=${PLATFORM_REPO:-${GITHUB_REPOSITORY_OWNER:+$GITHUB_REPOSITORY_OWNER/multi-tenant-platform}}
app_sha=${APP_SHA:-${GITHUB_SHA:-}}
wait=${WAIT:-}

name_re='^[a-z][a-z0-9]*(-[a-z0-9]+)*$'
repo_re='^[A-Za-z0-9-]+/[A-Za-z0-9._-]+$'
sha_re='^([0-9a-f]{40}|[0-9a-f]{64})$'
service_re='^[a-z0-9][a-z0-9_.-]{0,62}$'
component='[a-z0-9]+([._-]+[a-z0-9]+)*'
digest_ref_re="^($component(:[0-9]{1,5})?(/$component)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?@)?sha256:[a-f0-9]{64}\$"

if [[ -z $project ]]; then
  problem "project is empty: name the tenant, as in the platform's configs/<project>/"
elif [[ ! $project =~ $name_re || ${#project} -gt 40 ]]; then
  problem "project '$project' is not a tenant name (lowercase letters, digits, dashes)"
fi

images=()
services=" "
for item in ${IMAGES//,/ }; do
  service=${item%%=*}
  ref=${item#*=}
  if [[ $item != *=* ]]; then
    problem "image '$item': expected SERVICE=REGISTRY/REPOSITORY@sha256:DIGEST"
  elif [[ ! $service =~ $service_re ]]; then
    problem "image '$item': '$service' is not a compose service name"
  elif [[ $services == *" $service "* ]]; then
    problem "image for service '$service' given twice"
  elif [[ ! $ref =~ $digest_ref_re ]]; then
    problem "image '$item': deploys are by digest; pass the build's REGISTRY/REPOSITORY@sha256:<64 hex>, not a tag"
  else
    services+="$service "
    images+=("$service=$ref")
  fi
done
if [[ -z ${IMAGES//[[:space:],]/} ]]; then
  problem "images is empty: give SERVICE=REGISTRY/REPOSITORY@sha256:DIGEST, one per line"
fi

if [[ -z $platform_repo ]]; then
  problem "platform-repo is empty and GITHUB_REPOSITORY_OWNER is unset"
elif [[ ! $platform_repo =~ $repo_re ]]; then
  problem "platform-repo '$platform_repo' is not OWNER/NAME"
fi
if [[ -z ${TOKEN:-} ]]; then
  problem "token is empty: a repository's own GITHUB_TOKEN cannot dispatch to another repository; pass a PAT or GitHub App token with access to $platform_repo (e.g. secrets.PLATFORM_DISPATCH_TOKEN)"
else
  echo "::add-mask::$TOKEN"
fi
case $wait in
  '' | staging) ;;
  *) problem "wait '$wait': use '' (do not wait) or 'staging'" ;;
esac
[[ $app_sha =~ $sha_re ]] || problem "app-sha '$app_sha' is not a full commit sha"
if [[ -z ${ACTIONS_ID_TOKEN_REQUEST_URL:-} || -z ${ACTIONS_ID_TOKEN_REQUEST_TOKEN:-} ]]; then
  problem "this job cannot mint an OIDC token: give it 'permissions: id-token: write' (the platform verifies every request with it)"
fi

if ((${#problems[@]})); then
  for message in "${problems[@]}"; do
    echo "::error title=deploy input::$message"
  done
  echo "${#problems[@]} problem(s) with the inputs: nothing was sent" >&2
  exit 1
fi

out=${GITHUB_OUTPUT:-/dev/stdout}
{
  echo "project=$project"
  echo "platform-repo=$platform_repo"
  echo "app-sha=$app_sha"
  echo "wait=$wait"
  delimiter="images_$RANDOM$RANDOM$RANDOM"
  echo "images<<$delimiter"
  printf '%s\n' "${images[@]}"
  echo "$delimiter"
} >>"$out"
echo "inputs ok: ${#images[@]} image(s) of $project for $platform_repo, from ${GITHUB_REPOSITORY:-?}@$app_sha"
