"""The one place that talks to Binance.

``model`` holds plain data; ``gateway`` wraps python-binance's ``AsyncClient``
(imported lazily, never before the first frame); ``errors`` turns every
Binance error and transport failure into a :class:`~wizard.exchange.model.Problem`.
"""
