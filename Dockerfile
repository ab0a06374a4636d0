# The API and the task pane in one container:
#   docker build -t chronos-excel . && docker run -p 8000:8000 -v chronos-cache:/data chronos-excel
# Excel needs HTTPS: mount a certificate and add  --cert /certs/cert.pem --key /certs/key.pem  to the command.
FROM python:3.11-slim

ENV PIP_NO_CACHE_DIR=1 \
    HF_HOME=/data/huggingface \
    OMP_WAIT_POLICY=PASSIVE \
    CHRONOS_DEVICE=auto \
    CHRONOS_DATA_DIR=/data

WORKDIR /app
# torch first, on its own layer: it is by far the largest dependency and changes least often.
RUN pip install torch==2.13.0
COPY pyproject.toml README.md ./
COPY backend backend
COPY addin addin
RUN pip install ".[postgres]" && useradd --create-home chronos && mkdir -p /data && chown chronos /data

USER chronos
VOLUME /data
EXPOSE 8000
HEALTHCHECK --start-period=300s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/api/v1/health')"
# docker stop sends SIGTERM: the server refuses new connections, finishes what it holds, exits 0.
# Give it the grace period:  docker stop -t 70
STOPSIGNAL SIGTERM
CMD ["chronos-excel", "serve", "--host", "0.0.0.0", "--port", "8000", "--grace-seconds", "60"]
