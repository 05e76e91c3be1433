#!/usr/bin/env bash
# Create the topics named as arguments, unless they exist (docker-compose.yml's kafka-topics).
# BOOTSTRAP_SERVERS, TOPIC_PARTITIONS and TOPIC_REPLICATION come from the container's environment.
set -euo pipefail
for topic in "$@"; do
  /opt/kafka/bin/kafka-topics.sh --bootstrap-server "${BOOTSTRAP_SERVERS}" --create --if-not-exists \
    --topic "${topic}" --partitions "${TOPIC_PARTITIONS}" --replication-factor "${TOPIC_REPLICATION}"
done
/opt/kafka/bin/kafka-topics.sh --bootstrap-server "${BOOTSTRAP_SERVERS}" --list
