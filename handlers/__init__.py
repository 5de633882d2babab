"""aiogram routers, one module per feature. Handlers are thin: query, rule, text."""
