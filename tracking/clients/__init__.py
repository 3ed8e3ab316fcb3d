"""One small client per commerce system; `registry.client_for(integration)` picks the right one."""
