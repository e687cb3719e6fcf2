"""Authentication: API keys and the server password (keys.py), and who a request's credentials name
(credentials.py). Used by the HTTP API's Lambda authorizer, the streaming function and the admin CLI."""
