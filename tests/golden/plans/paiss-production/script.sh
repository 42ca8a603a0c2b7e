#!/usr/bin/env bash
# Deploy plan 22e488e622909d68a8f50565c76f42744298afd928a5d29830a09a70ab6bddbd
# paiss/production, release 20261126T120000Z-7a33d33f, host prod-1
# Secrets read from the environment at apply time: REGISTRY_TOKEN
set -euo pipefail
umask 022
# <platform_lib/planning/runtime.sh is inlined here>
PLATFORM_PLAN_ID=22e488e622909d68a8f50565c76f42744298afd928a5d29830a09a70ab6bddbd
PLATFORM_RELEASE=20261126T120000Z-7a33d33f
PLATFORM_ACTOR=alice
PLATFORM_BASE=/srv/platform/projects/paiss/production
PLATFORM_COMPOSE_PROJECT=paiss-production
PLATFORM_STEP_NO=0
PLATFORM_STEP_COUNT=15
PLATFORM_LOCK_HELD=''
PLATFORM_DOCKER_CONFIG=''
trap platform_on_exit EXIT
platform_rollback_plan() {
  platform_step rollback 'Restore the previous release' 360 abort -- platform_rollback /srv/platform/projects/paiss/production 20261126T120000Z-7a33d33f 300 -- docker compose --project-name paiss-production --file docker-compose.yml --file platform.override.yml --env-file .env </dev/null
  platform_step rollback-health 'HTTP health of the restored release' 250 abort -- platform_check_release /srv/platform/projects/paiss/production current paiss-production 60 </dev/null
}
platform_step lock 'Take the deploy lock' 330 abort -- platform_lock_acquire /srv/platform/projects/paiss/production alice 20261126T120000Z-7a33d33f 300 3600 </dev/null
platform_step precondition 'Check the host is as planned' 30 abort -- platform_expect_current /srv/platform/projects/paiss/production '' </dev/null
platform_step stage 'Stage the release directory' 30 abort -- platform_stage_release /srv/platform/projects/paiss/production 20261126T120000Z-7a33d33f </dev/null
platform_step write-docker-compose.yml 'Write docker-compose.yml' 30 abort -- platform_write_file /srv/platform/projects/paiss/production/releases/20261126T120000Z-7a33d33f/docker-compose.yml 0644 4d922f5f211b89769cacf5b543aba06ebc3c3cd8a125a8caaee63003d6c762c0 <<'PLATFORM_BASE64_END'
c2VydmljZXM6CiAgd2ViOgogICAgcmVzdGFydDogdW5sZXNzLXN0b3BwZWQKICAgIGVudl9maWxl
OiAuZW52CiAgICBoZWFsdGhjaGVjazoKICAgICAgdGVzdDogWyJDTUQiLCAid2dldCIsICItcSIs
ICItTy0iLCAiaHR0cDovLzEyNy4wLjAuMTo4MDAwL2hlYWx0aHoiXQogICAgICBpbnRlcnZhbDog
MTBzCiAgICAgIHRpbWVvdXQ6IDNzCiAgICAgIHJldHJpZXM6IDMK
PLATFORM_BASE64_END
platform_step write-platform.override.yml 'Write platform.override.yml' 30 abort -- platform_write_file /srv/platform/projects/paiss/production/releases/20261126T120000Z-7a33d33f/platform.override.yml 0644 f9cce052f98ca6bb9e820d2af39ce3abdcded33605fce0231f5d5d5906780175 <<'PLATFORM_BASE64_END'
IyBHZW5lcmF0ZWQgYnkgcGxhdGZvcm1fbGliIGZvciBwYWlzcy9wcm9kdWN0aW9uLiBEbyBub3Qg
ZWRpdDogaXQgaXMgcmV3cml0dGVuIG9uIGV2ZXJ5IGRlcGxveS4KewogICJzZXJ2aWNlcyI6IHsK
ICAgICJ3ZWIiOiB7CiAgICAgICJpbWFnZSI6ICJnaGNyLmlvL2V4YW1wbGUtb3JnL3BhaXNzLXdl
YkBzaGEyNTY6MzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMz
MzMzMzMzMzMzMzMzMzMzMyIsCiAgICAgICJsYWJlbHMiOiB7CiAgICAgICAgImlvLmdpdGh1Yi5t
dWx0aS10ZW5hbnQtcGxhdGZvcm0uZW52aXJvbm1lbnQiOiAicHJvZHVjdGlvbiIsCiAgICAgICAg
ImlvLmdpdGh1Yi5tdWx0aS10ZW5hbnQtcGxhdGZvcm0ucHJvamVjdCI6ICJwYWlzcyIKICAgICAg
fQogICAgfQogIH0KfQo=
PLATFORM_BASE64_END
platform_step write-health.tsv 'Write health.tsv' 30 abort -- platform_write_file /srv/platform/projects/paiss/production/releases/20261126T120000Z-7a33d33f/health.tsv 0644 a2c30dfb879eab32d27cdefc35fef1238e215ecb043322a9dbe534e937903ba9 <<'PLATFORM_BASE64_END'
d2ViCTgwMDAJL2hlYWx0aHoK
PLATFORM_BASE64_END
platform_step write-env 'Write .env' 30 abort -- platform_write_file /srv/platform/projects/paiss/production/releases/20261126T120000Z-7a33d33f/.env 0600 c8626f0d0d02c905fe844bf94c95b8bd4400f0e9eb5a33121024512559206602 <<'PLATFORM_BASE64_END'
IyBHZW5lcmF0ZWQgYnkgcGxhdGZvcm1fbGliIGZvciBwYWlzcy9wcm9kdWN0aW9uLiBEbyBub3Qg
ZWRpdDogaXQgaXMgcmV3cml0dGVuIG9uIGV2ZXJ5IGRlcGxveS4KIyBmcm9tIGNvbmZpZ3MvcGFp
c3MvLmVudi5wcm9kdWN0aW9uClBBSVNTX01PREU9cHJvZHVjdGlvbgpXT1JLRVJTPTQKIyBwcm92
aWRlZCBieSB0aGUgcGxhdGZvcm0KUExBVEZPUk1fQ09NUE9TRV9QUk9KRUNUPSdwYWlzcy1wcm9k
dWN0aW9uJwpQTEFURk9STV9ET01BSU49J3BhaXNzLm1lJwpQTEFURk9STV9FTlZJUk9OTUVOVD0n
cHJvZHVjdGlvbicKUExBVEZPUk1fSU1BR0VfV0VCPSdnaGNyLmlvL2V4YW1wbGUtb3JnL3BhaXNz
LXdlYkBzaGEyNTY6MzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMz
MzMzMzMzMzMzMzMzMzMzMzMzMycKUExBVEZPUk1fUFJPSkVDVD0ncGFpc3MnCg==
PLATFORM_BASE64_END
platform_step login 'Log in to ghcr.io' 60 abort -- platform_registry_login ghcr.io platform-bot REGISTRY_TOKEN </dev/null
platform_step pull 'Pull every image before anything stops' 600 abort -- platform_in_release /srv/platform/projects/paiss/production 20261126T120000Z-7a33d33f docker compose --project-name paiss-production --file docker-compose.yml --file platform.override.yml --env-file .env pull --quiet </dev/null
platform_step digests 'Resolve image digests' 60 abort -- platform_resolve_digests /srv/platform/projects/paiss/production 20261126T120000Z-7a33d33f web=ghcr.io/example-org/paiss-web@sha256:3333333333333333333333333333333333333333333333333333333333333333 </dev/null
platform_step switch 'Start the new release and wait until healthy' 330 rollback -- platform_in_release /srv/platform/projects/paiss/production 20261126T120000Z-7a33d33f docker compose --project-name paiss-production --file docker-compose.yml --file platform.override.yml --env-file .env up --detach --wait --wait-timeout 300 --remove-orphans </dev/null
platform_step health-1-web 'HTTP health of web:8000/healthz' 70 rollback -- platform_http_check paiss-production web 8000 /healthz 60 </dev/null
platform_step record 'Record the release and point current at it' 30 rollback -- platform_record_release /srv/platform/projects/paiss/production 20261126T120000Z-7a33d33f alice 0123456789abcdef0123456789abcdef01234567 </dev/null
platform_step prune 'Keep the newest 5 releases' 60 warn -- platform_prune_releases /srv/platform/projects/paiss/production 5 </dev/null
platform_step unlock 'Release the deploy lock' 30 warn -- platform_lock_release /srv/platform/projects/paiss/production </dev/null
