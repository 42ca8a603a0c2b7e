#!/usr/bin/env bash
# Write the SSH private key in $SSH_KEY to a new 0600 file under $RUNNER_TEMP, mask it, and
# output its path as `file`. The action removes the file in an always() step.
set -euo pipefail

if [[ -z ${SSH_KEY//[[:space:]]/} ]]; then
  echo "::error title=SSH key::the ssh-key input is empty: set the environment's DEPLOY_SSH_KEY secret"
  exit 1
fi
while IFS= read -r line; do
  [[ -n ${line//[[:space:]]/} ]] && echo "::add-mask::$line"
done <<<"$SSH_KEY"

umask 077
file=$(mktemp "${RUNNER_TEMP:-/tmp}/platform-ssh-key.XXXXXXXX")
# ssh refuses a key without its final newline; a secret pasted without one still works
printf '%s\n' "${SSH_KEY%$'\n'}" >"$file"
chmod 0600 "$file"
if ! grep -q -- '-----BEGIN .*PRIVATE KEY-----' "$file"; then
  rm -f -- "$file"
  echo "::error title=SSH key::the ssh-key input is not a PEM/OpenSSH private key"
  exit 1
fi
echo "file=$file" >>"$GITHUB_OUTPUT"
