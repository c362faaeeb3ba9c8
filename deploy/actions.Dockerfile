# syntax=docker/dockerfile:1
# Toolkit Advisor's action server, on the rasa-sdk image of the version pinned in
# requirements.in (rasa-sdk==3.6.2). Stateless: run as many replicas as needed.
#
# Build from the project root (BuildKit reads deploy/actions.Dockerfile.dockerignore):
#   docker build -f deploy/actions.Dockerfile -t registry.example.com/toolkit-advisor/actions:0.1.0 .
# Not built in this repository's CI (no Docker engine there); tests/test_deploy.py
# checks that the base image, the pins and the copied paths match the project.
FROM rasa/rasa-sdk:3.6.2

# rasa-sdk does not bring PyYAML, which the catalogue needs; same pin as requirements.lock.
USER root
RUN pip install --no-cache-dir "PyYAML==6.0.4"

WORKDIR /app
# advisor/: the decision logic and replies (plain Python + YAML cues); actions/: the
# Rasa SDK actions; catalogue/: the content. Nothing else is needed at run time.
COPY advisor/ /app/advisor/
COPY actions/ /app/actions/
COPY catalogue/ /app/catalogue/
ENV PYTHONPATH=/app \
    PYTHONDONTWRITEBYTECODE=1

# Back to the base image's unprivileged user; the code stays root-owned, read-only.
USER 1001
EXPOSE 5055
# `python -m actions` validates the catalogue first (a broken one stops the container
# with a message naming the file and entry), then runs the standard rasa_sdk server.
ENTRYPOINT ["python", "-m", "actions"]
CMD ["--port", "5055"]
