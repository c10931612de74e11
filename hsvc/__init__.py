"""hsvc: explain Kubernetes Service and StatefulSet DNS."""

__version__ = "0.1.0"
