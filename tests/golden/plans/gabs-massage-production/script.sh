#!/usr/bin/env bash
# Deploy plan 9015972881be17b468bc8f2cf7e380b5de61ffc4eb636044b4d2b8652783defd
# gabs-massage/production, release 20261126T120000Z-b2a2076c, host prod-1
# Secrets read from the environment at apply time: SMTP_PASSWORD, ADMIN_TOKEN, REGISTRY_TOKEN
set -euo pipefail
umask 022
# <platform_lib/planning/runtime.sh is inlined here>
PLATFORM_PLAN_ID=9015972881be17b468bc8f2cf7e380b5de61ffc4eb636044b4d2b8652783defd
PLATFORM_RELEASE=20261126T120000Z-b2a2076c
PLATFORM_ACTOR=alice
PLATFORM_BASE=/srv/platform/projects/gabs-massage/production
PLATFORM_COMPOSE_PROJECT=gabs-massage-production
PLATFORM_STEP_NO=0
PLATFORM_STEP_COUNT=18
PLATFORM_LOCK_HELD=''
PLATFORM_DOCKER_CONFIG=''
trap platform_on_exit EXIT
platform_rollback_plan() {
  platform_step rollback 'Restore the previous release' 360 abort -- platform_rollback /srv/platform/projects/gabs-massage/production 20261126T120000Z-b2a2076c 300 -- docker compose --project-name gabs-massage-production --file docker-compose.yml --file platform.override.yml --env-file .env </dev/null
  platform_step rollback-health 'HTTP health of the restored release' 250 abort -- platform_check_release /srv/platform/projects/gabs-massage/production current gabs-massage-production 60 </dev/null
}
platform_step lock 'Take the deploy lock' 330 abort -- platform_lock_acquire /srv/platform/projects/gabs-massage/production alice 20261126T120000Z-b2a2076c 300 3600 </dev/null
platform_step precondition 'Check the host is as planned' 30 abort -- platform_expect_current /srv/platform/projects/gabs-massage/production 20261101T000000Z-deadbeef </dev/null
platform_step stage 'Stage the release directory' 30 abort -- platform_stage_release /srv/platform/projects/gabs-massage/production 20261126T120000Z-b2a2076c </dev/null
platform_step write-docker-compose.yml 'Write docker-compose.yml' 30 abort -- platform_write_file /srv/platform/projects/gabs-massage/production/releases/20261126T120000Z-b2a2076c/docker-compose.yml 0644 8fe776080f3c2bc8ddf1743ef1e7883cc273c9ada979683214817f3e3bb5ae23 <<'PLATFORM_BASE64_END'
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
platform_step write-platform.override.yml 'Write platform.override.yml' 30 abort -- platform_write_file /srv/platform/projects/gabs-massage/production/releases/20261126T120000Z-b2a2076c/platform.override.yml 0644 4172adebb5778c07868f8e0cbcc1358bd8798211926a89cb541cb31fe5d60b16 <<'PLATFORM_BASE64_END'
IyBHZW5lcmF0ZWQgYnkgcGxhdGZvcm1fbGliIGZvciBnYWJzLW1hc3NhZ2UvcHJvZHVjdGlvbi4g
RG8gbm90IGVkaXQ6IGl0IGlzIHJld3JpdHRlbiBvbiBldmVyeSBkZXBsb3kuCnsKICAic2Vydmlj
ZXMiOiB7CiAgICAiYmFja2VuZCI6IHsKICAgICAgImltYWdlIjogImdoY3IuaW8vZXhhbXBsZS1v
cmcvZ2Ficy1tYXNzYWdlLWJhY2tlbmRAc2hhMjU2OjQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0
NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQiLAogICAgICAibGFiZWxzIjog
ewogICAgICAgICJpby5naXRodWIubXVsdGktdGVuYW50LXBsYXRmb3JtLmVudmlyb25tZW50Ijog
InByb2R1Y3Rpb24iLAogICAgICAgICJpby5naXRodWIubXVsdGktdGVuYW50LXBsYXRmb3JtLnBy
b2plY3QiOiAiZ2Ficy1tYXNzYWdlIgogICAgICB9CiAgICB9LAogICAgImZyb250ZW5kIjogewog
ICAgICAiaW1hZ2UiOiAiZ2hjci5pby9leGFtcGxlLW9yZy9nYWJzLW1hc3NhZ2UtZnJvbnRlbmRA
c2hhMjU2OjU1NTU1NTU1NTU1NTU1NTU1NTU1NTU1NTU1NTU1NTU1NTU1NTU1NTU1NTU1NTU1NTU1
NTU1NTU1NTU1NTU1NTUiLAogICAgICAibGFiZWxzIjogewogICAgICAgICJpby5naXRodWIubXVs
dGktdGVuYW50LXBsYXRmb3JtLmVudmlyb25tZW50IjogInByb2R1Y3Rpb24iLAogICAgICAgICJp
by5naXRodWIubXVsdGktdGVuYW50LXBsYXRmb3JtLnByb2plY3QiOiAiZ2Ficy1tYXNzYWdlIgog
ICAgICB9CiAgICB9CiAgfQp9Cg==
PLATFORM_BASE64_END
platform_step write-health.tsv 'Write health.tsv' 30 abort -- platform_write_file /srv/platform/projects/gabs-massage/production/releases/20261126T120000Z-b2a2076c/health.tsv 0644 46da26879271db282cba536c081cb863d1ade12989855a1f7113642aab2473a5 <<'PLATFORM_BASE64_END'
ZnJvbnRlbmQJODAJLwpiYWNrZW5kCTgwMDAJL2hlYWx0aAo=
PLATFORM_BASE64_END
platform_step write-env 'Write .env' 30 abort -- platform_write_file /srv/platform/projects/gabs-massage/production/releases/20261126T120000Z-b2a2076c/.env 0600 dd33db203d3923d6007fcd1632b4ea6db36631ef5230adec9afea851b61689a4 <<'PLATFORM_BASE64_END'
IyBHZW5lcmF0ZWQgYnkgcGxhdGZvcm1fbGliIGZvciBnYWJzLW1hc3NhZ2UvcHJvZHVjdGlvbi4g
RG8gbm90IGVkaXQ6IGl0IGlzIHJld3JpdHRlbiBvbiBldmVyeSBkZXBsb3kuCiMgZnJvbSBjb25m
aWdzL2dhYnMtbWFzc2FnZS8uZW52LnByb2R1Y3Rpb24KU01UUF9IT1NUPXNtdHAuZXhhbXBsZS5v
cmcKU01UUF9VU0VSPWJvb2tpbmdzQGdhYnMtbWFzc2FnZS5kZQpCT09LSU5HX05PVElGWT10ZXJt
aW5lQGdhYnMtbWFzc2FnZS5kZQpBUElfUFVCTElDX1VSTD1odHRwczovL2FwaS5nYWJzLW1hc3Nh
Z2UuZGUKIyBwcm92aWRlZCBieSB0aGUgcGxhdGZvcm0KUExBVEZPUk1fQ09NUE9TRV9QUk9KRUNU
PSdnYWJzLW1hc3NhZ2UtcHJvZHVjdGlvbicKUExBVEZPUk1fRE9NQUlOPSdnYWJzLW1hc3NhZ2Uu
ZGUnClBMQVRGT1JNX0VOVklST05NRU5UPSdwcm9kdWN0aW9uJwpQTEFURk9STV9JTUFHRV9CQUNL
RU5EPSdnaGNyLmlvL2V4YW1wbGUtb3JnL2dhYnMtbWFzc2FnZS1iYWNrZW5kQHNoYTI1Njo0NDQ0
NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0
NDQ0JwpQTEFURk9STV9JTUFHRV9GUk9OVEVORD0nZ2hjci5pby9leGFtcGxlLW9yZy9nYWJzLW1h
c3NhZ2UtZnJvbnRlbmRAc2hhMjU2OjU1NTU1NTU1NTU1NTU1NTU1NTU1NTU1NTU1NTU1NTU1NTU1
NTU1NTU1NTU1NTU1NTU1NTU1NTU1NTU1NTU1NTUnClBMQVRGT1JNX1BST0pFQ1Q9J2dhYnMtbWFz
c2FnZScK
PLATFORM_BASE64_END
platform_step secrets 'Add secrets to the env file' 30 abort -- platform_append_secrets /srv/platform/projects/gabs-massage/production/releases/20261126T120000Z-b2a2076c/.env SMTP_PASSWORD ADMIN_TOKEN </dev/null
platform_step login 'Log in to ghcr.io' 60 abort -- platform_registry_login ghcr.io platform-bot REGISTRY_TOKEN </dev/null
platform_step pull 'Pull every image before anything stops' 600 abort -- platform_in_release /srv/platform/projects/gabs-massage/production 20261126T120000Z-b2a2076c docker compose --project-name gabs-massage-production --file docker-compose.yml --file platform.override.yml --env-file .env pull --quiet </dev/null
platform_step digests 'Resolve image digests' 60 abort -- platform_resolve_digests /srv/platform/projects/gabs-massage/production 20261126T120000Z-b2a2076c backend=ghcr.io/example-org/gabs-massage-backend@sha256:4444444444444444444444444444444444444444444444444444444444444444 frontend=ghcr.io/example-org/gabs-massage-frontend@sha256:5555555555555555555555555555555555555555555555555555555555555555 </dev/null
platform_step backup-bookings 'Back up bookings (volume)' 600 abort -- platform_backup_volume /srv/platform/projects/gabs-massage/production /srv/platform/projects/gabs-massage/production/releases/20261126T120000Z-b2a2076c/backups gabs-massage-production bookings bookings </dev/null
platform_step switch 'Start the new release and wait until healthy' 330 rollback -- platform_in_release /srv/platform/projects/gabs-massage/production 20261126T120000Z-b2a2076c docker compose --project-name gabs-massage-production --file docker-compose.yml --file platform.override.yml --env-file .env up --detach --wait --wait-timeout 300 --remove-orphans </dev/null
platform_step health-1-frontend 'HTTP health of frontend:80/' 70 rollback -- platform_http_check gabs-massage-production frontend 80 / 60 </dev/null
platform_step health-2-backend 'HTTP health of backend:8000/health' 70 rollback -- platform_http_check gabs-massage-production backend 8000 /health 60 </dev/null
platform_step record 'Record the release and point current at it' 30 rollback -- platform_record_release /srv/platform/projects/gabs-massage/production 20261126T120000Z-b2a2076c alice 0123456789abcdef0123456789abcdef01234567 </dev/null
platform_step prune 'Keep the newest 5 releases' 60 warn -- platform_prune_releases /srv/platform/projects/gabs-massage/production 5 </dev/null
platform_step unlock 'Release the deploy lock' 30 warn -- platform_lock_release /srv/platform/projects/gabs-massage/production </dev/null
