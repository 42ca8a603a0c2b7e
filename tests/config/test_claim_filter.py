"""config/claims.py ClaimFilter: which other tenants' claims a one-tenant plan reads. A name
its repositories are named for counts only when a tenant has it: tenants whose repositories
merely share a prefix (`shop-1-web`, `shop-2-web`) do not touch each other."""

from __future__ import annotations

from platform_lib.config.claims import ClaimFilter, RepositoryClaim, TenantClaims, claim_resources
from platform_lib.errors import Location

HERE = Location("configs/x/project.yml", 1, 1, "/images")


def tenant(name: str, *repositories: str) -> TenantClaims:
    return TenantClaims(name, repositories=tuple(RepositoryClaim(r, HERE) for r in repositories))


def touches(own: TenantClaims, other: TenantClaims, tenants: set[str] | None) -> bool:
    return ClaimFilter(own, tenants).touches(claim_resources(other))


def test_a_shared_prefix_that_no_tenant_has_touches_nothing() -> None:
    own, other = tenant("shop-1", "shop-1-web"), tenant("shop-2", "shop-2-web")
    assert touches(own, other, None)  # without the names: every shared prefix counts
    assert not touches(own, other, {"shop-1", "shop-2"})
    assert touches(own, other, {"shop", "shop-1", "shop-2"})  # `shop` may own either


def test_an_owner_and_a_claim_of_its_repository_touch_each_other() -> None:
    names = {"shop", "shop-admin"}
    shop, admin = tenant("shop", "shop-admin-web"), tenant("shop-admin")
    assert touches(shop, admin, names) and touches(admin, shop, names)
