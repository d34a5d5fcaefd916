import { chinaDate } from "../../domain/china-time";
import { optionalVersion, setEtag } from "../../platform/http/if-match";
import type { AppRouteHandler } from "../../platform/http/openapi";
import * as residents from "../../services/residents";
import { actorOf, residentView } from "../households/views";
import type * as routes from "./residents.routes";

export const create: AppRouteHandler<typeof routes.create> = async (c) => {
  const row = await residents.addResident(c.env, actorOf(c), c.req.valid("param").id, c.req.valid("json"));
  setEtag(c, row.version);
  c.header("location", `/v1/residents/${row.id}`);
  return c.json(residentView(row, null, chinaDate(new Date())), 201);
};

export const getOne: AppRouteHandler<typeof routes.getOne> = async (c) => {
  const headers = c.req.valid("header");
  const { resident, plain } = await residents.readResident(c.env, actorOf(c), c.req.valid("param").id, {
    reveal: c.req.valid("query").reveal,
    purpose: headers["x-purpose"],
    purposeRef: headers["x-purpose-ref"],
  });
  setEtag(c, resident.version);
  c.header("cache-control", "no-store");
  return c.json(residentView(resident, plain, chinaDate(new Date())), 200);
};

export const patch: AppRouteHandler<typeof routes.patch> = async (c) => {
  const expected = optionalVersion(c.req.valid("header")["if-match"]);
  const today = chinaDate(new Date());
  const { id } = c.req.valid("param");
  const row = await residents.updateResident(c.env, actorOf(c), id, expected, c.req.valid("json"), today);
  setEtag(c, row.version);
  return c.json(residentView(row, null, today), 200);
};

export const move: AppRouteHandler<typeof routes.move> = async (c) => {
  const expected = optionalVersion(c.req.valid("header")["if-match"]);
  const { id } = c.req.valid("param");
  const row = await residents.moveResident(c.env, actorOf(c), id, expected, c.req.valid("json"));
  setEtag(c, row.version);
  return c.json(residentView(row, null, chinaDate(new Date())), 200);
};
