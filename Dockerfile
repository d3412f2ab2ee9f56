# The deploylink container image: the static Linux binary and CA certificates, nothing else.
#
#   bash scripts/image-rootfs.sh            # builds the binary (scripts/dist.sh) and dist/rootfs
#   docker build -t deploylink .            # or: podman build -t deploylink .
#   docker run --rm -v "$PWD:/repo" -w /repo deploylink plan
#
# No shell and no libc: names resolve through /etc/hosts and DNS without NSS, and TLS trusts
# /etc/ssl/certs/ca-certificates.crt (docs/distribution.md).
FROM scratch
COPY dist/rootfs/ /
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
ENTRYPOINT ["/usr/local/bin/deploylink"]
CMD ["--help"]
