"""FastAPI/Lambda plumbing shared by both apps: app factory, error mapping, middleware, handler."""
