"""The help pages: manual, tutorial, FAQ, problem guide, terms (``views``)."""
