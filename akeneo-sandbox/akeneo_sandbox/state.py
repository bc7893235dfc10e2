"""The running sandbox: settings, storage, catalog, tokens, products, stats, faults, load."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable

from akeneo_sandbox.auth import TokenService
from akeneo_sandbox.catalog import Catalog, load_catalog
from akeneo_sandbox.config import Settings
from akeneo_sandbox.faults import FaultInjector
from akeneo_sandbox.load import Latency, Limiter
from akeneo_sandbox.media import MediaStore
from akeneo_sandbox.models import ModelService, ModelStore, VariantRules
from akeneo_sandbox.products import ProductService
from akeneo_sandbox.stats import Stats
from akeneo_sandbox.store import Store


class Sandbox:
    """Shared by all handlers. A file database that already holds a catalog keeps it (restart)."""

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.clock = clock
        self.initial_catalog = load_catalog(settings.catalog)
        self.store = Store(settings.db)
        if self.store.has_structure():
            self.catalog: Catalog = self.store.load_structure()
        else:
            self.catalog = copy.deepcopy(self.initial_catalog)
            self.store.replace_structure(self.catalog)
        self.stats = Stats()
        self.faults = FaultInjector(settings.faults, settings.seed)
        self.latency = Latency(settings.latency, settings.seed)
        self.limiter = Limiter(settings.limits, settings.seed)
        self.tokens = TokenService(self.store, settings.credentials, settings.token_ttl, clock)
        self.media = MediaStore(self.store)
        self.models = ModelStore(self.store)
        self.products = ProductService(
            self.store,
            lambda: self.catalog,
            clock,
            self.stats.product_written,
            VariantRules(self.models, lambda: self.catalog, self.stats.values_dropped),
            self.media.info,
        )
        self.product_models = ModelService(
            self.models,
            lambda: self.catalog,
            self.products.now,
            self.stats.product_model_written,
            self.stats.values_dropped,
            self.media.info,
        )

    def reset(self) -> None:
        """Forget products, media files, structure changes and statistics; restart the random
        sequences."""
        self.store.clear_products()
        self.media.clear()
        self.models.clear()
        self.catalog = copy.deepcopy(self.initial_catalog)
        self.store.replace_structure(self.catalog)
        self.stats.clear()
        self.faults.reseed(self.settings.seed)
        self.latency.reseed(self.settings.seed)
        self.limiter.reset(self.settings.seed)
