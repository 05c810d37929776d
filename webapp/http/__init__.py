"""HTTP plumbing for every blueprint: error answers (JSON or HTML), JSON encoding, cookie sessions,
the size cap on chunked request bodies."""
