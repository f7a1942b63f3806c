-- +goose Up
-- Consumer names follow one rule, <domain>-<topic> (registry.Validate): the reservations
-- consumer of reservation-tradefail was reservations-trade-fail. Its inbox rows move to the
-- new name, so events it already applied are not applied again after the deploy.
UPDATE messaging.inbox SET consumer = 'reservations-reservation-tradefail'
 WHERE consumer = 'reservations-trade-fail';

-- +goose Down
UPDATE messaging.inbox SET consumer = 'reservations-trade-fail'
 WHERE consumer = 'reservations-reservation-tradefail';
