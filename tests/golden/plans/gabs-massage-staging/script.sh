#!/usr/bin/env bash
# Deploy plan c016b864262471a01aeb4c7cee7661fcb63b84bb0253d2b5af7dca09ae0b9f0d
# gabs-massage/staging, release 20261126T120000Z-eafd36fd, host staging-1
# Secrets read from the environment at apply time: SMTP_PASSWORD, ADMIN_TOKEN, REGISTRY_TOKEN
set -euo pipefail
umask 022
# <platform_lib/planning/runtime.sh is inlined here>
PLATFORM_PLAN_ID=c016b864262471a01aeb4c7cee7661fcb63b84bb0253d2b5af7dca09ae0b9f0d
PLATFORM_RELEASE=20261126T120000Z-eafd36fd
PLATFORM_ACTOR=alice
PLATFORM_BASE=/srv/platform/projects/gabs-massage/staging
PLATFORM_COMPOSE_PROJECT=gabs-massage-staging
PLATFORM_STEP_NO=0
PLATFORM_STEP_COUNT=17
PLATFORM_LOCK_HELD=''
PLATFORM_DOCKER_CONFIG=''
trap platform_on_exit EXIT
platform_rollback_plan() {
  platform_step rollback 'Restore the previous release' 360 abort -- platform_rollback /srv/platform/projects/gabs-massage/staging 20261126T120000Z-eafd36fd 300 -- docker compose --project-name gabs-massage-staging --file docker-compose.yml --file platform.override.yml --env-file .env </dev/null
  platform_step rollback-health 'HTTP health of the restored release' 250 abort -- platform_check_release /srv/platform/projects/gabs-massage/staging current gabs-massage-staging 60 </dev/null
}
platform_step lock 'Take the deploy lock' 330 abort -- platform_lock_acquire /srv/platform/projects/gabs-massage/staging alice 20261126T120000Z-eafd36fd 300 3600 </dev/null
platform_step stage 'Stage the release directory' 30 abort -- platform_stage_release /srv/platform/projects/gabs-massage/staging 20261126T120000Z-eafd36fd </dev/null
platform_step write-docker-compose.yml 'Write docker-compose.yml' 30 abort -- platform_write_file /srv/platform/projects/gabs-massage/staging/releases/20261126T120000Z-eafd36fd/docker-compose.yml 0644 8fe776080f3c2bc8ddf1743ef1e7883cc273c9ada979683214817f3e3bb5ae23 <<'PLATFORM_BASE64_END'
c2VydmljZXM6CiAgZnJvbnRlbmQ6CiAgICByZXN0YXJ0OiB1bmxlc3Mtc3RvcHBlZAogICAgZW52
aXJvbm1lbnQ6CiAgICAgIEFQSV9VUkw6ICR7QVBJX1BVQkxJQ19VUkx9CiAgICBoZWFsdGhjaGVj
azoKICAgICAgdGVzdDogWyJDTUQiLCAid2dldCIsICItcSIsICItTy0iLCAiaHR0cDovLzEyNy4w
LjAuMS8iXQogICAgICBpbnRlcnZhbDogMTBzCiAgICAgIHRpbWVvdXQ6IDNzCiAgICAgIHJldHJp
ZXM6IDMKCiAgYmFja2VuZDoKICAgIHJlc3RhcnQ6IHVubGVzcy1zdG9wcGVkCiAgICBlbnZpcm9u
bWVudDoKICAgICAgREFUQV9ESVI6IC9kYXRhCiAgICAgIFNNVFBfSE9TVDogJHtTTVRQX0hPU1R9
CiAgICAgIFNNVFBfVVNFUjogJHtTTVRQX1VTRVJ9CiAgICAgIFNNVFBfUEFTU1dPUkQ6ICR7U01U
UF9QQVNTV09SRH0KICAgICAgQURNSU5fVE9LRU46ICR7QURNSU5fVE9LRU59CiAgICAgIEJPT0tJ
TkdfTk9USUZZOiAke0JPT0tJTkdfTk9USUZZOj9zZXQgQk9PS0lOR19OT1RJRlkgdG8gdGhlIGFk
ZHJlc3MgdGhhdCBnZXRzIGJvb2tpbmcgbWFpbHN9CiAgICB2b2x1bWVzOgogICAgICAtIGJvb2tp
bmdzOi9kYXRhCiAgICBoZWFsdGhjaGVjazoKICAgICAgdGVzdDogWyJDTUQiLCAid2dldCIsICIt
cSIsICItTy0iLCAiaHR0cDovLzEyNy4wLjAuMTo4MDAwL2hlYWx0aCJdCiAgICAgIGludGVydmFs
OiAxMHMKICAgICAgdGltZW91dDogM3MKICAgICAgcmV0cmllczogMwoKdm9sdW1lczoKICBib29r
aW5nczoK
PLATFORM_BASE64_END
platform_step write-platform.override.yml 'Write platform.override.yml' 30 abort -- platform_write_file /srv/platform/projects/gabs-massage/staging/releases/20261126T120000Z-eafd36fd/platform.override.yml 0644 00b8460b54017d08c413316148c171451c42fcbe7f18bbea5586f4cf00b2484f <<'PLATFORM_BASE64_END'
IyBHZW5lcmF0ZWQgYnkgcGxhdGZvcm1fbGliIGZvciBnYWJzLW1hc3NhZ2Uvc3RhZ2luZy4gRG8g
bm90IGVkaXQ6IGl0IGlzIHJld3JpdHRlbiBvbiBldmVyeSBkZXBsb3kuCnsKICAic2VydmljZXMi
OiB7CiAgICAiYmFja2VuZCI6IHsKICAgICAgImltYWdlIjogImdoY3IuaW8vZXhhbXBsZS1vcmcv
Z2Ficy1tYXNzYWdlLWJhY2tlbmQ6MjAyNi4xMS4zIiwKICAgICAgImxhYmVscyI6IHsKICAgICAg
ICAiaW8uZ2l0aHViLm11bHRpLXRlbmFudC1wbGF0Zm9ybS5lbnZpcm9ubWVudCI6ICJzdGFnaW5n
IiwKICAgICAgICAiaW8uZ2l0aHViLm11bHRpLXRlbmFudC1wbGF0Zm9ybS5wcm9qZWN0IjogImdh
YnMtbWFzc2FnZSIKICAgICAgfQogICAgfSwKICAgICJmcm9udGVuZCI6IHsKICAgICAgImltYWdl
IjogImdoY3IuaW8vZXhhbXBsZS1vcmcvZ2Ficy1tYXNzYWdlLWZyb250ZW5kOjIwMjYuMTEuMyIs
CiAgICAgICJsYWJlbHMiOiB7CiAgICAgICAgImlvLmdpdGh1Yi5tdWx0aS10ZW5hbnQtcGxhdGZv
cm0uZW52aXJvbm1lbnQiOiAic3RhZ2luZyIsCiAgICAgICAgImlvLmdpdGh1Yi5tdWx0aS10ZW5h
bnQtcGxhdGZvcm0ucHJvamVjdCI6ICJnYWJzLW1hc3NhZ2UiCiAgICAgIH0KICAgIH0KICB9Cn0K
PLATFORM_BASE64_END
platform_step write-health.tsv 'Write health.tsv' 30 abort -- platform_write_file /srv/platform/projects/gabs-massage/staging/releases/20261126T120000Z-eafd36fd/health.tsv 0644 46da26879271db282cba536c081cb863d1ade12989855a1f7113642aab2473a5 <<'PLATFORM_BASE64_END'
ZnJvbnRlbmQJODAJLwpiYWNrZW5kCTgwMDAJL2hlYWx0aAo=
PLATFORM_BASE64_END
platform_step write-env 'Write .env' 30 abort -- platform_write_file /srv/platform/projects/gabs-massage/staging/releases/20261126T120000Z-eafd36fd/.env 0600 ed00e57810ad9326d4c7dedef1921a301516794239f61951d26e707c4d8b6a11 <<'PLATFORM_BASE64_END'
IyBHZW5lcmF0ZWQgYnkgcGxhdGZvcm1fbGliIGZvciBnYWJzLW1hc3NhZ2Uvc3RhZ2luZy4gRG8g
bm90IGVkaXQ6IGl0IGlzIHJld3JpdHRlbiBvbiBldmVyeSBkZXBsb3kuCiMgZnJvbSBjb25maWdz
L2dhYnMtbWFzc2FnZS8uZW52LnN0YWdpbmcKU01UUF9IT1NUPXNtdHAuZXhhbXBsZS5vcmcKU01U
UF9VU0VSPXN0YWdpbmdAZ2Ficy1tYXNzYWdlLmRlCkJPT0tJTkdfTk9USUZZPXN0YWdpbmdAZ2Fi
cy1tYXNzYWdlLmRlCkFQSV9QVUJMSUNfVVJMPWh0dHBzOi8vc3RhZ2luZy5hcGkuZ2Ficy1tYXNz
YWdlLmRlCiMgcHJvdmlkZWQgYnkgdGhlIHBsYXRmb3JtClBMQVRGT1JNX0NPTVBPU0VfUFJPSkVD
VD0nZ2Ficy1tYXNzYWdlLXN0YWdpbmcnClBMQVRGT1JNX0RPTUFJTj0nc3RhZ2luZy5nYWJzLW1h
c3NhZ2UuZGUnClBMQVRGT1JNX0VOVklST05NRU5UPSdzdGFnaW5nJwpQTEFURk9STV9JTUFHRV9C
QUNLRU5EPSdnaGNyLmlvL2V4YW1wbGUtb3JnL2dhYnMtbWFzc2FnZS1iYWNrZW5kOjIwMjYuMTEu
MycKUExBVEZPUk1fSU1BR0VfRlJPTlRFTkQ9J2doY3IuaW8vZXhhbXBsZS1vcmcvZ2Ficy1tYXNz
YWdlLWZyb250ZW5kOjIwMjYuMTEuMycKUExBVEZPUk1fUFJPSkVDVD0nZ2Ficy1tYXNzYWdlJwo=
PLATFORM_BASE64_END
platform_step secrets 'Add secrets to the env file' 30 abort -- platform_append_secrets /srv/platform/projects/gabs-massage/staging/releases/20261126T120000Z-eafd36fd/.env SMTP_PASSWORD ADMIN_TOKEN </dev/null
platform_step login 'Log in to ghcr.io' 60 abort -- platform_registry_login ghcr.io platform-bot REGISTRY_TOKEN </dev/null
platform_step pull 'Pull every image before anything stops' 600 abort -- platform_in_release /srv/platform/projects/gabs-massage/staging 20261126T120000Z-eafd36fd docker compose --project-name gabs-massage-staging --file docker-compose.yml --file platform.override.yml --env-file .env pull --quiet </dev/null
platform_step digests 'Resolve image digests' 60 abort -- platform_resolve_digests /srv/platform/projects/gabs-massage/staging 20261126T120000Z-eafd36fd backend=ghcr.io/example-org/gabs-massage-backend:2026.11.3 frontend=ghcr.io/example-org/gabs-massage-frontend:2026.11.3 </dev/null
platform_step backup-bookings 'Back up bookings (volume)' 600 abort -- platform_backup_volume /srv/platform/projects/gabs-massage/staging /srv/platform/projects/gabs-massage/staging/releases/20261126T120000Z-eafd36fd/backups gabs-massage-staging bookings bookings </dev/null
platform_step switch 'Start the new release and wait until healthy' 330 rollback -- platform_in_release /srv/platform/projects/gabs-massage/staging 20261126T120000Z-eafd36fd docker compose --project-name gabs-massage-staging --file docker-compose.yml --file platform.override.yml --env-file .env up --detach --wait --wait-timeout 300 --remove-orphans </dev/null
platform_step health-1-frontend 'HTTP health of frontend:80/' 70 rollback -- platform_http_check gabs-massage-staging frontend 80 / 60 </dev/null
platform_step health-2-backend 'HTTP health of backend:8000/health' 70 rollback -- platform_http_check gabs-massage-staging backend 8000 /health 60 </dev/null
platform_step record 'Record the release and point current at it' 30 rollback -- platform_record_release /srv/platform/projects/gabs-massage/staging 20261126T120000Z-eafd36fd alice 0123456789abcdef0123456789abcdef01234567 </dev/null
platform_step prune 'Keep the newest 5 releases' 60 warn -- platform_prune_releases /srv/platform/projects/gabs-massage/staging 5 </dev/null
platform_step unlock 'Release the deploy lock' 30 warn -- platform_lock_release /srv/platform/projects/gabs-massage/staging </dev/null
