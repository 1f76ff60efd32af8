"""The real kube-apiserver tier: builds kube-apiserver and etcd from the Go module proxy
(`build`), runs them on loopback loaded with test objects (`server`), shares one instance per
object set across a test session (`pool`), and serves one by hand (`python -m tests.realapi serve`).
"""
