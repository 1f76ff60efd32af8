"""Sources yield Kubernetes objects (`SourceObject`) and never decide anything about them:
`cluster` pages through the API as raw JSON, `files` parses manifests and cluster dumps."""
