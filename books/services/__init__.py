"""Writes of the accounting domain, one module per topic. Every important write goes through one function here,
called alike by pages, the API, commands, the sync engine and the triggers."""
