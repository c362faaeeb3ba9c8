"""Rasa input channels of Toolkit Advisor beyond the REST channel.

- :mod:`channels.webchat` - socket.io for the project's own chat page, which the
  same Rasa server serves, so that page and socket share one origin;
- :mod:`channels.slack` - Slack's Events API and interactivity, configured from
  environment variables so that a machine without Slack secrets still starts.

Both are thin subclasses of Rasa's own connectors: the protocol handling stays
Rasa's, and only what this assistant needs differently is overridden.
"""
