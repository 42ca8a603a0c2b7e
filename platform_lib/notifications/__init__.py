"""Notifications of deploys and approvals.

routing     which sinks an event goes to, and the variables holding their secrets (pure)
payloads    the Slack Block Kit message and the JSON webhook body of an event (pure)
signing     the webhook's HMAC-SHA256 signature, and its check as a receiver makes it (pure)
deliver     posting to the sinks within the time bounds (I/O: the network, the clock)
hooks       the commands' one call: make the events, read the environment, deliver
"""
