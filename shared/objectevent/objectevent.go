// Package objectevent reads and writes Cloud Storage's object notifications (JSON_API_V1
// payload, delivered through Pub/Sub) as the platform's CloudEvents, so a consumer takes
// a finished upload like any event: registry serves one pushed by Pub/Sub (attributes as
// HTTP headers), bus decodes one pulled from a subscription, and the local storage
// stand-in announces its uploads in the same form.
package objectevent

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/google/uuid"
)

// Type is the CloudEvent type of a finished object: Eventarc's name for the same event.
const Type = "google.cloud.storage.object.v1.finalized"

// The CloudEvent types of the other notifications, Eventarc's names too. The platform
// subscribes to finished objects only, but a notification configured for more still
// reads as events of their own type, never as a finished upload.
const (
	TypeDeleted         = "google.cloud.storage.object.v1.deleted"
	TypeArchived        = "google.cloud.storage.object.v1.archived"
	TypeMetadataUpdated = "google.cloud.storage.object.v1.metadataUpdated"
)

// PayloadFormat is the only notification payload the platform reads: the object resource
// as JSON.
const PayloadFormat = "JSON_API_V1"

// The Pub/Sub attributes of a Cloud Storage notification.
const (
	AttrNotificationConfig = "notificationConfig"
	AttrEventType          = "eventType"
	AttrPayloadFormat      = "payloadFormat"
	AttrBucketID           = "bucketId"
	AttrObjectID           = "objectId"
	AttrObjectGeneration   = "objectGeneration"
	AttrEventTime          = "eventTime"
)

// eventTypes maps Cloud Storage's event types to the CloudEvent types.
var eventTypes = map[string]string{
	"OBJECT_FINALIZE":        Type,
	"OBJECT_DELETE":          TypeDeleted,
	"OBJECT_ARCHIVE":         TypeArchived,
	"OBJECT_METADATA_UPDATE": TypeMetadataUpdated,
}

// Namespace is the UUID namespace of the events' ids: an event's id is the UUID v5 of
// "<bucket>/<object>#<generation>" in it, so Pub/Sub's redelivery of one notification
// (at least once) carries the same id and the consumers' inbox takes it once. Fixed
// forever: changing it would let every past notification in again.
var Namespace = uuid.MustParse("badea6cf-bee8-47cd-90fc-e327b2e301cf")

// Object is the notification's data: Cloud Storage's object resource (JSON API v1), the
// fields the platform reads. Size and generation are decimal strings there.
type Object struct {
	// Kind is "storage#object"; ID is "<bucket>/<name>/<generation>". Attributes fills
	// both when they are empty, as Cloud Storage always sends them.
	Kind        string    `json:"kind,omitempty"`
	ID          string    `json:"id,omitempty"`
	Bucket      string    `json:"bucket"`
	Name        string    `json:"name"`
	Generation  string    `json:"generation"`
	ContentType string    `json:"contentType,omitempty"`
	Size        string    `json:"size"`
	TimeCreated time.Time `json:"timeCreated"`
	// Updated is when the object's metadata last changed: TimeCreated for a new object,
	// which Attributes fills when it is zero.
	Updated time.Time `json:"updated,omitzero"`
}

// Attributes returns what Cloud Storage publishes to Pub/Sub when o is finished
// (OBJECT_FINALIZE, payload JSON_API_V1): the message's attributes and its data, the
// object resource as JSON. The local stand-in publishes them so the consumers read its
// uploads exactly as they read Cloud Storage's.
func Attributes(o Object, eventTime time.Time) (attrs map[string]string, data []byte, err error) {
	if o.Bucket == "" || o.Name == "" || o.Generation == "" {
		return nil, nil, fmt.Errorf("object notification: bucket %q, name %q and generation %q are required", o.Bucket, o.Name, o.Generation)
	}
	if o.Kind == "" {
		o.Kind = "storage#object"
	}
	if o.ID == "" {
		o.ID = o.Bucket + "/" + o.Name + "/" + o.Generation
	}
	if o.Updated.IsZero() {
		o.Updated = o.TimeCreated
	}
	data, err = json.Marshal(o)
	if err != nil {
		return nil, nil, fmt.Errorf("object notification: encode %s: %w", o.ID, err)
	}
	attrs = map[string]string{
		AttrNotificationConfig: "projects/_/buckets/" + o.Bucket + "/notificationConfigs/local",
		AttrEventType:          "OBJECT_FINALIZE",
		AttrPayloadFormat:      PayloadFormat,
		AttrBucketID:           o.Bucket,
		AttrObjectID:           o.Name,
		AttrObjectGeneration:   o.Generation,
		AttrEventTime:          eventTime.UTC().Format(time.RFC3339Nano),
	}
	return attrs, data, nil
}

// Event reads a Cloud Storage notification as a CloudEvent. attr looks an attribute up by
// name: a map's lookup for a pulled message, or http.Header.Get for a push without
// wrapper, which writes the attributes as headers (Header.Get ignores case, as it must).
// ok is false when the message is no storage notification (no payloadFormat): the caller
// reads it as an ordinary CloudEvent. A notification it cannot read is an error with ok
// true: redelivering it would not make it readable.
//
// The event's id is derived from the object and its generation (Namespace), its source
// and subject are Eventarc's ("//storage.googleapis.com/projects/_/buckets/<bucket>",
// "objects/<name>"), its data the object resource as it came.
func Event(attr func(name string) string, data []byte) (e cloudevents.Event, ok bool, err error) {
	format := attr(AttrPayloadFormat)
	if format == "" {
		return cloudevents.Event{}, false, nil
	}
	if format != PayloadFormat {
		return cloudevents.Event{}, true, fmt.Errorf("object notification: payloadFormat %q, want %s", format, PayloadFormat)
	}
	values := map[string]string{}
	for _, name := range []string{AttrEventType, AttrBucketID, AttrObjectID, AttrObjectGeneration, AttrEventTime} {
		v := attr(name)
		if v == "" {
			return cloudevents.Event{}, true, fmt.Errorf("object notification: attribute %s missing", name)
		}
		// Headers lose surrounding spaces: such a value would not come back the same
		// from a push, and no bucket, object or generation has them.
		if strings.TrimSpace(v) != v {
			return cloudevents.Event{}, true, fmt.Errorf("object notification: attribute %s %q has surrounding spaces", name, v)
		}
		values[name] = v
	}
	ceType, known := eventTypes[values[AttrEventType]]
	if !known {
		return cloudevents.Event{}, true, fmt.Errorf("object notification: unknown eventType %q", values[AttrEventType])
	}
	if g, err := strconv.ParseInt(values[AttrObjectGeneration], 10, 64); err != nil || g <= 0 {
		return cloudevents.Event{}, true, fmt.Errorf("object notification: objectGeneration %q is not a positive integer", values[AttrObjectGeneration])
	}
	at, err := time.Parse(time.RFC3339Nano, values[AttrEventTime])
	if err != nil {
		return cloudevents.Event{}, true, fmt.Errorf("object notification: eventTime: %w", err)
	}
	if !json.Valid(data) {
		return cloudevents.Event{}, true, errors.New("object notification: data is not JSON")
	}
	bucket, object, generation := values[AttrBucketID], values[AttrObjectID], values[AttrObjectGeneration]

	e = cloudevents.NewEvent()
	e.SetID(uuid.NewSHA1(Namespace, []byte(bucket+"/"+object+"#"+generation)).String())
	e.SetType(ceType)
	e.SetSource("//storage.googleapis.com/projects/_/buckets/" + bucket)
	e.SetSubject("objects/" + object)
	e.SetTime(at)
	if err := e.SetData(cloudevents.ApplicationJSON, data); err != nil {
		return cloudevents.Event{}, true, fmt.Errorf("object notification: data: %w", err)
	}
	if err := e.Validate(); err != nil {
		return cloudevents.Event{}, true, fmt.Errorf("object notification: %w", err)
	}
	return e, true, nil
}
