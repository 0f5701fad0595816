# The walkthrough's prod image, made by hand (build-docker makes it from docker/Dockerfile
# and the committed tree; tests/integration/build-docker.test.ts covers that): the
# package installed, nothing mapped in at run time. Built with the example project as its
# context. Debian's python3 has no pip here (and there is no network): "installing" is
# copying the package into /usr/local/lib/python3.11/dist-packages, which is on sys.path.
ARG BASE=run-docker-test/python-base:bookworm
FROM ${BASE}
RUN ln -s /usr/bin/python3 /usr/local/bin/python
COPY src/hello/ /usr/local/lib/python3.11/dist-packages/hello/
RUN python3 -m compileall -q /usr/local/lib/python3.11/dist-packages/hello
CMD ["python3", "-m", "hello"]
