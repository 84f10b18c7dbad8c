"""Client layer for eBay's seller APIs: settings, OAuth, REST/Post-Order and Trading clients,
one module per API declaring its endpoint specs (:mod:`.endpoints`) and turning eBay's wire
objects into table rows, and one paging engine (:mod:`.paging`) that walks every endpoint spec.

Nothing here touches the database or Dagster; callers persist the rows these modules return.
"""
