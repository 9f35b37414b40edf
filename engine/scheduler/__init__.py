"""The scheduler process: the sweep that sends reminders and takes timed actions, and delivery.

`sweeper` claims due reminder rows and acts through `Engine`; `delivery` sends the outbox by file,
SMTP or GOV.UK Notify. May import runtime, store, timeline and the base modules; never web or CLI.
"""
