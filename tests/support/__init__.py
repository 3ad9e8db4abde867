"""What the tests share: builders, loopback servers, polling, recordings and fixtures."""
