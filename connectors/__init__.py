"""Source connectors: each file turns one kind of public source into `RawPost` items."""
