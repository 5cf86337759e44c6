"""TMF683 Party Interaction Management v4 over the same requests (docs/tmf683.md)."""
