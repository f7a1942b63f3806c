package openapi

import (
	"reflect"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/chat"
	"github.com/8949market/market/shared/products"
	"github.com/8949market/market/shared/reservations"
	"github.com/8949market/market/shared/trades"
)

// Enums are the string types of the API with their values. A value added to a type and
// not here is caught by the contract tests: an answer carrying it fails its schema.
func Enums() map[reflect.Type][]string {
	return map[reflect.Type][]string{
		reflect.TypeFor[products.Status](): values(products.PendingReservation, products.Reserving, products.InTrade,
			products.Completed, products.SaleCanceled, products.Expired, products.Failed),
		reflect.TypeFor[products.Sort](): values(products.SortStart, products.SortPrice, products.SortPriceD, products.SortNewest),
		reflect.TypeFor[reservations.Status](): values(reservations.Available, reservations.Pending, reservations.Paid,
			reservations.Completed, reservations.Cancelled, reservations.Closed),
		reflect.TypeFor[trades.Status]():   values(trades.Trading, trades.Completed, trades.Cancelled),
		reflect.TypeFor[trades.Side]():     values(trades.Buyer, trades.Seller, trades.Admin),
		reflect.TypeFor[auth.Role]():       values(auth.RoleUser, auth.RoleManager, auth.RoleMaster),
		reflect.TypeFor[chat.Status]():     values(chat.Trading, chat.Completed, chat.Cancelled),
		reflect.TypeFor[chat.SenderType](): values(chat.Buyer, chat.Seller),
	}
}

func values[T ~string](v ...T) []string {
	out := make([]string, len(v))
	for i, s := range v {
		out[i] = string(s)
	}
	return out
}
