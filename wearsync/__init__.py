"""wearsync: sync home exercise routines to a wearable's vibration timer and a calendar feed."""

__version__ = "0.1.0"
