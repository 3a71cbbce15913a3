"""Everything that touches the outside: storage, tables, hashing, tokens, documents."""
