import type * as pulumi from "@pulumi/pulumi";

/**
 * Where a component's children were declared before the component existed: their former parent and the prefix
 * their names carried there (`<prefix>-<role>`). A component that groups resources another component used to
 * create takes this so an existing stack keeps them: each child gets an alias to its former URN, and `pulumi up`
 * moves it instead of replacing it.
 */
export interface MovedFrom {
  readonly parent: pulumi.Resource;
  readonly prefix: string;
}

/**
 * Resource options aliasing a child with role `role` to its former URN (`formerName` when its name changed
 * otherwise than by prefix). Nothing when the component is new.
 */
export function movedFrom(moved: MovedFrom | undefined, role: string, formerName?: string): Pick<pulumi.CustomResourceOptions, "aliases"> {
  if (!moved) return {};
  return { aliases: [{ name: formerName ?? `${moved.prefix}-${role}`, parent: moved.parent }] };
}
