"""The pure core: Kubernetes objects and DNS settings in, DNS answers out."""
