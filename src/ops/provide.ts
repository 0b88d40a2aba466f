import { type FactoryProvider, type InjectionToken } from '@nestjs/common';

/**
 * A provider made by calling the class's constructor with what the container holds under each
 * of `inject`, in order. Our constructors take their collaborators positionally (many by
 * `import type`, which leaves no decorator metadata), so each module names them here instead.
 */
export function construct<A extends unknown[], T>(
  cls: new (...args: A) => T,
  inject: { [K in keyof A]-?: InjectionToken },
): FactoryProvider<T> {
  return { provide: cls, inject: inject as InjectionToken[], useFactory: (...args: unknown[]) => new cls(...(args as A)) };
}
