"""The IVR: call flows as data and their interpreter (a pure core: handle(event, now))."""
