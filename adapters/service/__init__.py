"""The service layer, one module per group of use cases, combined in `journal_app.EJournal`."""
