"""Product and Bundle: what donors can send, and what each bundle costs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.extensions import Cents, UTCDateTime, db, utcnow

PRODUCT_KINDS = ("package", "donation")


class Product(db.Model):  # type: ignore[name-defined, misc]
    __tablename__ = "products"
    __table_args__ = (CheckConstraint("kind in ('package', 'donation')", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    summary: Mapped[str] = mapped_column(Text, default="")
    # What is inside the package, one item per line, shown on the storefront.
    contents: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    bundles: Mapped[list[Bundle]] = relationship(
        back_populates="product", order_by="Bundle.position", cascade="all, delete-orphan"
    )

    @property
    def contents_list(self) -> list[str]:
        return [line.strip() for line in self.contents.splitlines() if line.strip()]

    @property
    def active_bundles(self) -> list[Bundle]:
        return [bundle for bundle in self.bundles if bundle.active]


class Bundle(db.Model):  # type: ignore[name-defined, misc]
    """A way to buy a product: a single package, or a ten-pack for a whole unit."""

    __tablename__ = "bundles"
    __table_args__ = (
        CheckConstraint("packages >= 1", name="packages_positive"),
        CheckConstraint("price_cents > 0", name="price_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    packages: Mapped[int] = mapped_column()
    price_cents: Mapped[Cents] = mapped_column()
    currency: Mapped[str] = mapped_column(String(3))
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    # The bundle's picture: a path under shop/static/ ("img/catalog/x.svg"), a path from
    # the site's root ("/media/x.jpg") or an https:// address; empty for none. The alt
    # text says what the picture shows, for people who cannot see it.
    image_path: Mapped[str] = mapped_column(String(500), default="", server_default="")
    image_alt: Mapped[str] = mapped_column(String(300), default="", server_default="")

    product: Mapped[Product] = relationship(back_populates="bundles")
