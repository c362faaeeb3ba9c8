# syntax=docker/dockerfile:1
# Toolkit Advisor's Rasa server: the rasa/rasa image of the version pinned in
# requirements.in (rasa==3.6.21) plus the project's own Rasa code (NLU components,
# channels, tracker and lock stores), the trained model and the chat page.
# The image is the same for one replica or twenty: the environment chooses the
# tracker store (TRACKER_STORE_URL) and the lock store (LOCK_STORE_URL).
#
# Build from the project root after `make install train` (BuildKit reads
# deploy/rasa.Dockerfile.dockerignore):
#   docker build -f deploy/rasa.Dockerfile -t registry.example.com/toolkit-advisor/rasa:0.1.0 .
# Not built in this repository's CI (no Docker engine there); tests/test_deploy.py
# checks that the base image, the pins and the copied paths match the project.
FROM rasa/rasa:3.6.21

USER root
# What the project adds to Rasa's own dependencies, at the versions tested:
# requirements.lock is used as a constraints file, so nothing else drifts either.
COPY requirements.lock /tmp/requirements.lock
RUN pip install --no-cache-dir -c /tmp/requirements.lock \
        "spacy==3.4.4" "spacy-lookups-data==1.0.5" "python-socketio==5.9.0" \
        "jsonschema==3.2.0" "slack_sdk==3.48.0" "PyYAML==6.0.4" \
    && rm /tmp/requirements.lock

WORKDIR /app
COPY advisor/ /app/advisor/
COPY catalogue/ /app/catalogue/
COPY components/ /app/components/
COPY channels/ /app/channels/
COPY stores/ /app/stores/
COPY ops/ /app/ops/
COPY web/ /app/web/
COPY node_modules/socket.io-client/dist/socket.io.min.js /app/node_modules/socket.io-client/dist/socket.io.min.js
# Built by `make train`: the spaCy pipeline the model's SpacyNLP loads by path, and the model.
COPY build/spacy_pipeline/ /app/build/spacy_pipeline/
COPY models/toolkit-advisor.tar.gz /app/models/toolkit-advisor.tar.gz
# Under config/, not /app/*.yml: Rasa's Helm chart mounts its own generated
# endpoints.yml and credentials.yml over /app/; the project's files are the ones to use.
COPY endpoints.yml credentials.yml /app/config/
# A writable place for the SQLite default, for a plain `docker run` without PostgreSQL.
RUN mkdir -p /app/var && chown 1001:0 /app/var && chmod 770 /app/var
ENV PYTHONPATH=/app \
    PYTHONDONTWRITEBYTECODE=1 \
    RASA_TELEMETRY_ENABLED=false

USER 1001
EXPOSE 5005
# ops.rasa_server is Rasa's command line plus the project's bounded action-server
# client - what `make run` and `make cluster` start. Pass --auth-token at run time.
ENTRYPOINT ["python", "-m", "ops.rasa_server"]
CMD ["run", "--enable-api", "--port", "5005", "--model", "models/toolkit-advisor.tar.gz", \
     "--endpoints", "config/endpoints.yml", "--credentials", "config/credentials.yml"]
