"""The domain's refusals; the HTTP layer maps each to a problem+json answer."""

from order_svc.domain.status import OrderStatus


class OrderError(Exception):
    """Base of the order rules' refusals."""


class CancelNotAllowed(OrderError):
    """The order can no longer be cancelled: the carrier has the parcel, or it is closed."""

    def __init__(self, status: OrderStatus) -> None:
        super().__init__(
            f"The order is {status.value}: it can be cancelled only until the parcel is dispatched."
        )
        self.status = status


class OrderNotFound(OrderError):
    """No order has this id."""

    def __init__(self, order_id: object) -> None:
        super().__init__(f"There is no order {order_id}.")
        self.order_id = order_id
