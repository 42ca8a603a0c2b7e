# shellcheck shell=bash
# runtime/json.sh: the one JSON writer of the records the host sends back.

# platform_json TEXT: TEXT as a JSON string literal (backslash, quote and every control
# character escaped; bash strings hold no NUL).
platform_json() {
  local s=$1 code c
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\r'/\\r}
  s=${s//$'\t'/\\t}
  if [[ $s == *[[:cntrl:]]* ]]; then
    for code in {1..8} 11 12 {14..31} 127; do
      printf -v c '%b' "$(printf '\\x%02x' "$code")"
      s=${s//"$c"/$(printf '\\u%04x' "$code")}
    done
  fi
  printf '"%s"' "$s"
}

# platform_json_object [KEY VALUE]...: one JSON object on one line, members in that order.
#   KEY   a string member
#   ?KEY  a string member, null when VALUE is empty
#   #KEY  a member whose VALUE is JSON already (a number, true, an object from a file)
platform_json_object() {
  local out='' key value
  while (($# >= 2)); do
    key=$1 value=$2
    shift 2
    case $key in
      '#'*) key=${key:1} ;;
      '?'*) key=${key:1}
        if [[ -z $value ]]; then value=null; else value=$(platform_json "$value"); fi ;;
      *) value=$(platform_json "$value") ;;
    esac
    [[ -n $value ]] || { platform_die "platform_json_object: $key has no JSON value"; return 1; }
    out+="${out:+,}$(platform_json "$key"):$value"
  done
  (($# == 0)) || { platform_die "platform_json_object: $1 has no value"; return 1; }
  printf '{%s}' "$out"
}

# platform_json_extend OBJECT [KEY VALUE]...: the one-line JSON OBJECT with those members
# added at its end (a record the plan drafted, completed with what only the host knows).
platform_json_extend() {
  local object=$1 more
  shift
  object=${object%"${object##*[!$' \n']}"}
  [[ $object == '{'*'}' ]] || { platform_die "platform_json_extend: not a JSON object"; return 1; }
  more=$(platform_json_object "$@") || return 1
  if [[ $object == '{}' ]]; then printf '%s' "$more"
  elif [[ $more == '{}' ]]; then printf '%s' "$object"
  else printf '%s,%s' "${object%\}}" "${more#\{}"; fi
}
