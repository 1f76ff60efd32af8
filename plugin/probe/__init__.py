"""The node side: what on a node itself still talks to Docker, read from the host's `/proc`, `/etc`,
systemd units, cron, kubelet files and agent configurations, read-only and bounded. One module per
kind of evidence (`processes`, `units`, `cron`, `kubelet`, `agents`, `docker_settings`), all reading
through `hostfs.HostRoot` and yielding `findings.HostFinding`s; `collect.collect` runs them all."""
