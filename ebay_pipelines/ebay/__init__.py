"""Client layer for eBay's seller APIs: settings, OAuth, REST/Post-Order and Trading clients,
and one module per data family turning eBay's wire objects into table rows.

Nothing here touches the database or Dagster; callers persist the rows these modules return.
"""
