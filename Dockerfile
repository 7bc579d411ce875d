# Emberwatch runtime image: the gateway (`emberwatch gateway`, `emberwatch influx-setup`) and the
# simulator (`emberwatch simulate`). Base dependencies only: no `demo` extra (matplotlib, amqtt) and
# no `train` extra (TensorFlow). Measured with `pip install .` into a fresh Python 3.11 venv:
# 14 distributions (incl. pip and setuptools), 121 MB of site-packages, 25 MB of it pip/setuptools;
# numpy is ~73 MB of the rest. The image adds that to python:3.11-slim.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY pyproject.toml README.md ./
COPY emberwatch ./emberwatch
COPY edge_node ./edge_node
COPY gateway ./gateway
COPY simulator ./simulator
COPY training ./training
RUN pip install . && rm -rf /src/build

# Run unprivileged; the spool volume is mounted here and inherits this ownership.
RUN useradd --system --uid 10001 --home-dir /var/lib/emberwatch emberwatch \
    && mkdir -p /var/lib/emberwatch/spool \
    && chown -R emberwatch /var/lib/emberwatch
USER emberwatch
WORKDIR /var/lib/emberwatch

ENTRYPOINT ["emberwatch"]
CMD ["gateway"]
