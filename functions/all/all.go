// Package all links every function package, for the tools that need the whole registry:
// the manifest generator, the dev stack and tests. No deployable imports it: each states
// what it serves (functions/image for the functions image, the chat server its own
// consumers). A test fails when a package under functions/ is missing here.
package all

import (
	_ "github.com/8949market/market/functions/chat/tradecancelled"
	_ "github.com/8949market/market/functions/chat/tradecompleted"
	_ "github.com/8949market/market/functions/chat/tradecreated"
	_ "github.com/8949market/market/functions/image" // every function with a service of its own
)
