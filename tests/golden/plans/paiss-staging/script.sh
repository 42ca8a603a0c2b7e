#!/usr/bin/env bash
# Deploy plan 0204917ff5c0bdb2ba610b77918f8f8ee13f8cec6c99f056654e48fbc98d923d
# paiss/staging, release 20261126T120000Z-ff21ba9c, host staging-1
# Secrets read from the environment at apply time: REGISTRY_TOKEN
set -euo pipefail
umask 022
# <platform_lib/planning/runtime.sh is inlined here>
PLATFORM_PLAN_ID=0204917ff5c0bdb2ba610b77918f8f8ee13f8cec6c99f056654e48fbc98d923d
PLATFORM_RELEASE=20261126T120000Z-ff21ba9c
PLATFORM_ACTOR=alice
PLATFORM_BASE=/srv/platform/projects/paiss/staging
PLATFORM_COMPOSE_PROJECT=paiss-staging
PLATFORM_STEP_NO=0
PLATFORM_STEP_COUNT=15
PLATFORM_LOCK_HELD=''
PLATFORM_DOCKER_CONFIG=''
trap platform_on_exit EXIT
platform_rollback_plan() {
  platform_step rollback 'Restore the previous release' 360 abort -- platform_rollback /srv/platform/projects/paiss/staging 20261126T120000Z-ff21ba9c 300 -- docker compose --project-name paiss-staging --file docker-compose.yml --file platform.override.yml --env-file .env </dev/null
  platform_step rollback-health 'HTTP health of the restored release' 250 abort -- platform_check_release /srv/platform/projects/paiss/staging current paiss-staging 60 </dev/null
}
platform_step lock 'Take the deploy lock' 330 abort -- platform_lock_acquire /srv/platform/projects/paiss/staging alice 20261126T120000Z-ff21ba9c 300 3600 </dev/null
platform_step precondition 'Check the host is as planned' 30 abort -- platform_expect_current /srv/platform/projects/paiss/staging '' </dev/null
platform_step stage 'Stage the release directory' 30 abort -- platform_stage_release /srv/platform/projects/paiss/staging 20261126T120000Z-ff21ba9c </dev/null
platform_step write-docker-compose.yml 'Write docker-compose.yml' 30 abort -- platform_write_file /srv/platform/projects/paiss/staging/releases/20261126T120000Z-ff21ba9c/docker-compose.yml 0644 4d922f5f211b89769cacf5b543aba06ebc3c3cd8a125a8caaee63003d6c762c0 <<'PLATFORM_BASE64_END'
c2VydmljZXM6CiAgd2ViOgogICAgcmVzdGFydDogdW5sZXNzLXN0b3BwZWQKICAgIGVudl9maWxl
OiAuZW52CiAgICBoZWFsdGhjaGVjazoKICAgICAgdGVzdDogWyJDTUQiLCAid2dldCIsICItcSIs
ICItTy0iLCAiaHR0cDovLzEyNy4wLjAuMTo4MDAwL2hlYWx0aHoiXQogICAgICBpbnRlcnZhbDog
MTBzCiAgICAgIHRpbWVvdXQ6IDNzCiAgICAgIHJldHJpZXM6IDMK
PLATFORM_BASE64_END
platform_step write-platform.override.yml 'Write platform.override.yml' 30 abort -- platform_write_file /srv/platform/projects/paiss/staging/releases/20261126T120000Z-ff21ba9c/platform.override.yml 0644 911559229e36295c55bd2a55005beb27b4806e3798b92c9125541f594ea57e7c <<'PLATFORM_BASE64_END'
IyBHZW5lcmF0ZWQgYnkgcGxhdGZvcm1fbGliIGZvciBwYWlzcy9zdGFnaW5nLiBEbyBub3QgZWRp
dDogaXQgaXMgcmV3cml0dGVuIG9uIGV2ZXJ5IGRlcGxveS4KewogICJzZXJ2aWNlcyI6IHsKICAg
ICJ3ZWIiOiB7CiAgICAgICJpbWFnZSI6ICJnaGNyLmlvL2V4YW1wbGUtb3JnL3BhaXNzLXdlYkBz
aGEyNTY6MzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMz
MzMzMzMzMzMzMzMzMyIsCiAgICAgICJsYWJlbHMiOiB7CiAgICAgICAgImlvLmdpdGh1Yi5tdWx0
aS10ZW5hbnQtcGxhdGZvcm0uZW52aXJvbm1lbnQiOiAic3RhZ2luZyIsCiAgICAgICAgImlvLmdp
dGh1Yi5tdWx0aS10ZW5hbnQtcGxhdGZvcm0ucHJvamVjdCI6ICJwYWlzcyIKICAgICAgfQogICAg
fQogIH0KfQo=
PLATFORM_BASE64_END
platform_step write-health.tsv 'Write health.tsv' 30 abort -- platform_write_file /srv/platform/projects/paiss/staging/releases/20261126T120000Z-ff21ba9c/health.tsv 0644 a2c30dfb879eab32d27cdefc35fef1238e215ecb043322a9dbe534e937903ba9 <<'PLATFORM_BASE64_END'
d2ViCTgwMDAJL2hlYWx0aHoK
PLATFORM_BASE64_END
platform_step write-env 'Write .env' 30 abort -- platform_write_file /srv/platform/projects/paiss/staging/releases/20261126T120000Z-ff21ba9c/.env 0600 64fa58c5066b060b20075da312ad9a92eefcdc3b06913661cce2fcbdbac70f5d <<'PLATFORM_BASE64_END'
IyBHZW5lcmF0ZWQgYnkgcGxhdGZvcm1fbGliIGZvciBwYWlzcy9zdGFnaW5nLiBEbyBub3QgZWRp
dDogaXQgaXMgcmV3cml0dGVuIG9uIGV2ZXJ5IGRlcGxveS4KIyBmcm9tIGNvbmZpZ3MvcGFpc3Mv
LmVudi5zdGFnaW5nClBBSVNTX01PREU9c3RhZ2luZwpXT1JLRVJTPTEKIyBwcm92aWRlZCBieSB0
aGUgcGxhdGZvcm0KUExBVEZPUk1fQ09NUE9TRV9QUk9KRUNUPSdwYWlzcy1zdGFnaW5nJwpQTEFU
Rk9STV9ET01BSU49J3N0YWdpbmcucGFpc3MubWUnClBMQVRGT1JNX0VOVklST05NRU5UPSdzdGFn
aW5nJwpQTEFURk9STV9JTUFHRV9XRUI9J2doY3IuaW8vZXhhbXBsZS1vcmcvcGFpc3Mtd2ViQHNo
YTI1NjozMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMz
MzMzMzMzMzMzMzMzJwpQTEFURk9STV9QUk9KRUNUPSdwYWlzcycK
PLATFORM_BASE64_END
platform_step login 'Log in to ghcr.io' 60 abort -- platform_registry_login ghcr.io platform-bot REGISTRY_TOKEN </dev/null
platform_step pull 'Pull every image before anything stops' 600 abort -- platform_in_release /srv/platform/projects/paiss/staging 20261126T120000Z-ff21ba9c docker compose --project-name paiss-staging --file docker-compose.yml --file platform.override.yml --env-file .env pull --quiet </dev/null
platform_step digests 'Resolve image digests' 60 abort -- platform_resolve_digests /srv/platform/projects/paiss/staging 20261126T120000Z-ff21ba9c web=ghcr.io/example-org/paiss-web@sha256:3333333333333333333333333333333333333333333333333333333333333333 </dev/null
platform_step switch 'Start the new release and wait until healthy' 330 rollback -- platform_in_release /srv/platform/projects/paiss/staging 20261126T120000Z-ff21ba9c docker compose --project-name paiss-staging --file docker-compose.yml --file platform.override.yml --env-file .env up --detach --wait --wait-timeout 300 --remove-orphans </dev/null
platform_step health-1-web 'HTTP health of web:8000/healthz' 70 rollback -- platform_http_check paiss-staging web 8000 /healthz 60 </dev/null
platform_step record 'Record the release and point current at it' 30 rollback -- platform_record_release /srv/platform/projects/paiss/staging 20261126T120000Z-ff21ba9c alice 0123456789abcdef0123456789abcdef01234567 </dev/null
platform_step prune 'Keep the newest 5 releases' 60 warn -- platform_prune_releases /srv/platform/projects/paiss/staging 5 </dev/null
platform_step unlock 'Release the deploy lock' 30 warn -- platform_lock_release /srv/platform/projects/paiss/staging </dev/null
