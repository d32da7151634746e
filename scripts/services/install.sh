#!/usr/bin/env bash
# Installs the real services the integration tests start (Debian, run as root):
#   - redis-server, haproxy, chromium (apt; also java + maven if missing)
#   - Apache Kafka broker jars (Maven Central via mvn) into .cache/kafka-<ver>/libs
#   - kustomize for the k8s manifest tests, unless kubectl (which embeds it) is on PATH:
#     built with Go from the Go module proxy into .cache/bin (Debian's kubectl 1.20 is too old)
# `npm test` runs this by itself when something is missing and it runs as root.
# Idempotent: does nothing that is already done. Fails (non-zero) if anything
# needed is still missing at the end.
set -euo pipefail

KAFKA_VERSION="3.9.2" # keep in sync with scripts/services/kafka/pom.xml and test/services/kafka.ts
KUSTOMIZE_VERSION="v5.5.0" # the kustomize kubectl 1.32 embeds

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "${SCRIPT_DIR}/../.." && pwd)"
KAFKA_HOME="${REPO_ROOT}/.cache/kafka-${KAFKA_VERSION}"
KAFKA_LIBS="${KAFKA_HOME}/libs"
LOCAL_BIN="${REPO_ROOT}/.cache/bin"
POM="${SCRIPT_DIR}/kafka/pom.xml"

log() { printf '[services/install] %s\n' "$*"; }
die() { printf '[services/install] ERROR: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- apt packages
apt_pkgs=()
command -v redis-server >/dev/null 2>&1 || apt_pkgs+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || apt_pkgs+=(redis-tools)
command -v haproxy >/dev/null 2>&1 || apt_pkgs+=(haproxy)
have_chromium() { [ -n "${CHROMIUM_PATH:-}" ] && [ -x "${CHROMIUM_PATH}" ] || command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; }
have_chromium || apt_pkgs+=(chromium)
command -v java >/dev/null 2>&1 || apt_pkgs+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || apt_pkgs+=(maven)

if [ "${#apt_pkgs[@]}" -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] || die "need root to apt-get install: ${apt_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Do not let package post-install scripts start system-wide daemons
  # (e.g. redis on :6379); tests start their own instances on free ports.
  created_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    created_policy=1
  fi
  cleanup_policy() { if [ "${created_policy}" -eq 1 ]; then rm -f /usr/sbin/policy-rc.d; fi; }
  trap cleanup_policy EXIT
  log "apt-get update"
  apt-get update -q
  log "apt-get install -y --no-install-recommends ${apt_pkgs[*]}"
  apt-get install -y -q --no-install-recommends "${apt_pkgs[@]}"
  cleanup_policy
  created_policy=0
else
  log "apt packages already present (redis-server, haproxy, chromium, java, mvn)"
fi

# ------------------------------------------------------------------ kafka jars
have_kafka_jars() { compgen -G "${KAFKA_LIBS}/kafka_2.13-${KAFKA_VERSION}.jar" >/dev/null; }

if have_kafka_jars; then
  log "kafka ${KAFKA_VERSION} jars already in ${KAFKA_LIBS} ($(ls "${KAFKA_LIBS}"/*.jar | wc -l) jars)"
else
  command -v mvn >/dev/null 2>&1 || die "mvn not found"
  mkdir -p "${KAFKA_HOME}"
  tmp_libs="$(mktemp -d "${KAFKA_HOME}/libs.tmp.XXXXXX")"
  log "resolving org.apache.kafka:kafka_2.13:${KAFKA_VERSION} + runtime deps via mvn -> ${KAFKA_LIBS}"
  if ! mvn -q -B -Dstyle.color=never -f "${POM}" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="${tmp_libs}"; then
    rm -rf "${tmp_libs}"
    die "mvn dependency:copy-dependencies failed"
  fi
  rm -rf "${KAFKA_LIBS}"
  mv "${tmp_libs}" "${KAFKA_LIBS}"
  log "copied $(ls "${KAFKA_LIBS}"/*.jar | wc -l) jars"
fi

LOG4J="${KAFKA_HOME}/log4j.properties"
if [ ! -f "${LOG4J}" ]; then
  log "writing ${LOG4J} (WARN to stdout)"
  cat >"${LOG4J}" <<'PROPS'
# Kafka broker logging for integration tests: WARN and above to stdout
# (the test harness captures stdout into artifacts/services/kafka-<port>.log).
log4j.rootLogger=WARN, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
# Startup/shutdown milestones are useful when a test fails.
log4j.logger.kafka.server.KafkaRaftServer=INFO
log4j.logger.kafka.server.BrokerServer=INFO
log4j.logger.kafka.server.ControllerServer=INFO
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.request.logger=WARN
PROPS
fi

# -------------------------------------------------------------------- kustomize
have_kustomize() { command -v kubectl >/dev/null 2>&1 || command -v kustomize >/dev/null 2>&1 || [ -x "${LOCAL_BIN}/kustomize" ]; }
if have_kustomize; then
  log "kustomize: present ($(command -v kubectl || command -v kustomize || echo "${LOCAL_BIN}/kustomize"))"
else
  command -v go >/dev/null 2>&1 || die "need kubectl or kustomize for the k8s tests, or Go to build kustomize"
  log "building kustomize ${KUSTOMIZE_VERSION} with Go -> ${LOCAL_BIN}"
  mkdir -p "${LOCAL_BIN}"
  GOBIN="${LOCAL_BIN}" go install "sigs.k8s.io/kustomize/kustomize/v5@${KUSTOMIZE_VERSION}" ||
    die "go install sigs.k8s.io/kustomize/kustomize/v5@${KUSTOMIZE_VERSION} failed"
fi

# ---------------------------------------------------------------------- verify
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || missing+=(redis-cli)
command -v haproxy >/dev/null 2>&1 || missing+=(haproxy)
command -v java >/dev/null 2>&1 || missing+=(java)
have_chromium || missing+=(chromium)
have_kustomize || missing+=(kustomize)
have_kafka_jars || missing+=("kafka jars in ${KAFKA_LIBS}")
compgen -G "${KAFKA_LIBS}/slf4j-reload4j-*.jar" >/dev/null || missing+=("slf4j-reload4j jar in ${KAFKA_LIBS}")
[ -f "${LOG4J}" ] || missing+=("${LOG4J}")
if [ "${#missing[@]}" -gt 0 ]; then
  die "still missing after install: ${missing[*]}"
fi

log "redis-server: $(redis-server --version | head -n1)"
log "haproxy:      $(haproxy -v 2>&1 | head -n1)"
log "java:         $(java -version 2>&1 | head -n1)"
log "chromium:     $("${CHROMIUM_PATH:-chromium}" --version 2>/dev/null || echo present)"
log "kafka:        ${KAFKA_VERSION} ($(ls "${KAFKA_LIBS}"/*.jar | wc -l) jars in ${KAFKA_LIBS})"
log "ok"
