"""The core floor: settings schema, models, storage and migrations, HTTP, errors, raw posts.

It imports nothing above it (connectors, classifiers, reports, the application)."""
