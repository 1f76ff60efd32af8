"""kubectl-dockershim: find workloads that depend on the Docker daemon on their node."""

__version__ = "0.1.0"
