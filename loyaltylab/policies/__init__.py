"""Program mechanics (points, tiers, coupons, service, referral) built on
:class:`loyaltylab.sim.Policy`."""
